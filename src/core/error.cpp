#include "llcuda/error.h"

namespace llcuda {

const char* error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::InvalidArgument: return "invalid argument";
        case ErrorKind::NotFound: return "not found";
        case ErrorKind::FormatError: return "format error";
        case ErrorKind::Unsupported: return "unsupported";
        case ErrorKind::Io: return "I/O error";
        case ErrorKind::OutOfMemory: return "out of memory";
        case ErrorKind::Internal: return "internal error";
    }
    return "error";
}

}  // namespace llcuda
