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
}
