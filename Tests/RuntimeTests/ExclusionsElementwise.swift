/// Backend node tests of the elementwise kernels that are excluded, by test name, with the reason.
let elementwiseExclusions: [String: String] = [:]
