/// Backend node tests of the tensor kernels that are excluded, by test name, with the reason.
let tensorExclusions: [String: String] = [
    "test_identity_opt": "optional values are not supported by the runtime (NDArray holds tensors only)",
    "test_identity_sequence": "sequence values are not supported by the runtime (NDArray holds tensors only)",
]
