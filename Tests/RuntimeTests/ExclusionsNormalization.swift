/// Backend node tests of the normalization kernels that are excluded, by test name, with the reason.
let normalizationExclusions: [String: String] = [:]
