// Errors raised by libllcuda.
//
// Every failure caused by input (a malformed file, a bad parameter, a missing tensor) is reported
// as an llcuda::Error whose message names the problem; the library never aborts on user input.
#pragma once

#include <stdexcept>
#include <string>

namespace llcuda {

enum class ErrorKind {
    InvalidArgument,  // a parameter or request the caller can fix
    NotFound,         // a file, key, tensor or token that does not exist
    FormatError,      // a malformed or truncated file
    Unsupported,      // well-formed input that this version cannot handle (type, version, arch)
    Io,               // the operating system refused a read, write, map or rename
    OutOfMemory,      // host or device allocation failed
    Internal,         // a broken invariant inside llcuda: a bug, please report it
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace llcuda
