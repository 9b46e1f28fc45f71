import Testing
@testable import TollgateEmbedding

@Suite struct OpenBLASRuntimeTests {
    @Test func suggestsACoreTypeFromCPUFlags() {
        #expect(OpenBLASRuntime.suggestedCoreType(cpuFlags: ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]) == "SkylakeX")
        #expect(OpenBLASRuntime.suggestedCoreType(cpuFlags: ["avx2", "fma", "avx512f"]) == "Haswell")
        #expect(OpenBLASRuntime.suggestedCoreType(cpuFlags: ["sse4_2", "avx"]) == nil)
    }

    @Test func reportsTheLoadedLibrary() {
        #expect(OpenBLASRuntime.configuration.hasPrefix("OpenBLAS"))
        #expect(!OpenBLASRuntime.coreName.isEmpty)
    }

    /// Debian 12's OpenBLAS runs generic SSE3 kernels on CPUs newer than itself (this CI's
    /// Xeons among them); after `prepare()` the kernels must fit the CPU's flags.
    @Test func replacesGenericKernelsOnACapableCPU() {
        OpenBLASRuntime.prepare()
        guard OpenBLASRuntime.suggestedCoreType(cpuFlags: OpenBLASRuntime.cpuFlags()) != nil else { return }
        #expect(!OpenBLASRuntime.genericCores.contains(OpenBLASRuntime.coreName.lowercased()), "\(OpenBLASRuntime.coreName)")
        #expect(OpenBLASRuntime.performanceWarning == nil)
    }
}
