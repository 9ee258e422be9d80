import ArgumentParser
import Foundation

// When installed under another name (a link called `count-flops`), act as that subcommand.
let invokedAs = URL(fileURLWithPath: CommandLine.arguments.first ?? "convert").lastPathComponent
let arguments = Array(CommandLine.arguments.dropFirst())
if let subcommand = Convert.subcommand(named: invokedAs) {
    subcommand.main(arguments)
} else {
    Convert.main(arguments)
}
