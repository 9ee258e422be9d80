/// Backend node tests of the tensor kernels that are excluded, by test name, with the reason.
let tensorExclusions: [String: String] = [:]
