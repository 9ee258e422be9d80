/// Backend node tests of the elementwise kernels that are excluded, by test name, with the reason.
let elementwiseExclusions: [String: String] = [
    "test_equal_string": "string tensors are not supported by the runtime",
    "test_equal_string_broadcast": "string tensors are not supported by the runtime",
]
