import COpenBLAS
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The OpenBLAS this process runs on: its kernel set, chosen again when the library's own
/// choice wastes the CPU, and what start-up logs say about it.
///
/// OpenBLAS picks its kernels when the library loads, from the CPU model it recognises or from
/// `OPENBLAS_CORETYPE`. A release older than the CPU (Debian 12 ships 0.3.21, which predates
/// Sapphire Rapids) falls back to generic SSE3 kernels ("Prescott") that make the encoder and
/// the semantic search 2-4x slower. ``prepare()`` repairs that in-process through the
/// library's own selection path (`gotoblas_dynamic_init`, which reads `OPENBLAS_CORETYPE`), so
/// neither the operator nor the deployment has to know.
public enum OpenBLASRuntime {
    /// Selects better kernels when OpenBLAS runs generic ones on a CPU with AVX2 or AVX-512,
    /// once per process. Every user of BLAS in this module calls it before its first BLAS
    /// call: a kernel set must not change under a running call.
    public static func prepare() { _ = kernelUpgrade }

    /// The kernel sets before and after ``prepare()`` changed them; nil when it did not.
    public static var upgrade: (from: String, to: String)? {
        prepare()
        return kernelUpgrade
    }

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
        prepare()
        return recommendedCoreType.map {
            "OpenBLAS does not recognise this CPU and runs its generic '\(coreName)' kernels, "
                + "and they could not be replaced in-process; in-process embeddings run about 4x slower. "
                + "Start tollgate with OPENBLAS_CORETYPE=\($0)"
        }
    }

    /// Re-runs OpenBLAS's dynamic kernel selection with the suggested core type. The two
    /// entry points are exported by DYNAMIC_ARCH builds (Debian's); other builds keep their
    /// kernels and the start-up warning stays.
    static func selectSuggestedKernels() -> (from: String, to: String)? {
        let before = coreName
        guard let coreType = recommendedCoreType,
            let quit = symbol("gotoblas_dynamic_quit"), let initialise = symbol("gotoblas_dynamic_init")
        else { return nil }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        quit()
        initialise()
        let after = coreName
        return after.lowercased() == before.lowercased() ? nil : (before, after)
    }

    private typealias EntryPoint = @convention(c) () -> Void

    private static func symbol(_ name: String) -> EntryPoint? {
        // RTLD_DEFAULT: the libraries the process already loaded, libopenblas among them.
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(address, to: EntryPoint.self)
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

/// Swift runs a global's initialiser once, and blocks other callers until it has finished.
private let kernelUpgrade: (from: String, to: String)? = OpenBLASRuntime.selectSuggestedKernels()
