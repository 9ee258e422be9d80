/// Backend node tests of the convolution kernels that are excluded, by test name, with the reason.
let convolutionExclusions: [String: String] = [:]
