// Package release holds the tests of wnm's release machinery, which is shell and Ruby rather
// than Go: packaging/version.sh (the version every build path stamps), the Debian copyright file
// generated from the modules linked into the binary, and the Homebrew formula.
package release
