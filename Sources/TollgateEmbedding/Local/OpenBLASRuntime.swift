import COpenBLAS
import Foundation

/// The OpenBLAS this process runs on, for start-up logs and diagnostics.
///
/// OpenBLAS picks its kernels when the library loads, from the CPU model it recognises or from
/// `OPENBLAS_CORETYPE`. A release older than the CPU (Debian 12 ships 0.3.21, which predates
/// Sapphire Rapids) falls back to generic SSE3 kernels ("Prescott") that make the encoder
/// several times slower; only the environment of the process start can change that.
public enum OpenBLASRuntime {
    /// Build configuration, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The kernel set in use, e.g. `SkylakeX`, `Haswell` or `Prescott`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The `OPENBLAS_CORETYPE` to start the process with, when OpenBLAS runs generic kernels on
    /// a CPU with AVX2 or AVX-512 and no core type was forced; `nil` when the kernels fit.
    /// (`SkylakeX` is OpenBLAS's AVX-512 kernel set, `Haswell` its AVX2 one.)
    public static var recommendedCoreType: String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
            genericCores.contains(coreName.lowercased())
        else { return nil }
        return suggestedCoreType(cpuFlags: cpuFlags())
    }

    /// A one-line warning for the start-up log when ``recommendedCoreType`` is set.
    public static var performanceWarning: String? {
        recommendedCoreType.map {
            "OpenBLAS does not recognise this CPU and runs its generic '\(coreName)' kernels, "
                + "which make in-process embeddings about 4x slower; start tollgate with OPENBLAS_CORETYPE=\($0)"
        }
    }

    /// Kernel sets without AVX2.
    static let genericCores: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "atom", "katmai",
        "coppermine", "northwood", "banias", "barcelona", "opteron", "athlon", "nano", "generic",
    ]

    /// The best OpenBLAS core type the CPU's flags allow: `SkylakeX` with AVX-512, `Haswell` with AVX2.
    static func suggestedCoreType(cpuFlags: Set<String>) -> String? {
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The `flags` of the first processor in /proc/cpuinfo (empty elsewhere).
    static func cpuFlags() -> Set<String> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
