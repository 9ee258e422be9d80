import Foundation
import Runtime
import Testing

/// The ONNX backend node tests against the runtime. Enabled when PARE_ONNX_NODE_TESTS points at
/// the node test data (Scripts/test installs onnx into a venv and sets it).
@Suite(.enabled(if: Conformance.folder != nil, "set PARE_ONNX_NODE_TESTS to onnx/backend/test/data/node"))
struct ConformanceTests {
    @Test func everyRequiredOpHasAKernel() {
        let missing = Conformance.requiredOps.subtracting(KernelRegistry.supportedOps).sorted()
        #expect(missing.isEmpty, "no kernel for \(missing.joined(separator: ", "))")
    }

    @Test func backendNodeTestsPass() throws {
        let filter = ProcessInfo.processInfo.environment["PARE_CONFORMANCE_FILTER"]
        var passed = 0, excluded = 0, outOfScope = 0
        var failures: [String] = []
        let names = Conformance.testNames().filter { filter == nil || $0.contains(filter!) }
        #expect(!names.isEmpty, "no backend tests found in \(Conformance.folder?.path ?? "?")")
        for (i, name) in names.enumerated() {
            if Conformance.exclusions[name] != nil {
                excluded += 1
                continue
            }
            switch Conformance.run(name) {
            case .passed: passed += 1
            case .outOfScope: outOfScope += 1
            case .failed(let why): failures.append("\(name): \(why)")
            }
            if (i + 1) % 200 == 0 {
                FileHandle.standardError.write(Data("conformance: \(i + 1)/\(names.count) run\n".utf8))
            }
        }
        let summary = "ONNX backend node tests: \(passed) passed, \(failures.count) failed, \(excluded) excluded, \(outOfScope) not run (ops without kernels)"
        print(summary)
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        for failure in failures { Issue.record(Comment(rawValue: failure)) }
    }
}
