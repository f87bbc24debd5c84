#include "kv/kv_pool_size.h"

#include <algorithm>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

namespace {
double gib(uint64_t bytes) { return double(bytes) / double(1ull << 30); }
}  // namespace

uint32_t kv_blocks_for_memory(const DeviceKvRoom& room, float fraction, uint32_t block_size, uint32_t context_length) {
    if (!(fraction > 0 && fraction <= 1)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the KV pool's share of free GPU memory must be in (0, 1], not {}", fraction));
    }
    if (block_size == 0 || context_length == 0 || room.bytes_per_block == 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("cannot size a KV pool with block size {}, context {} and {} bytes per block",
                                block_size, context_length, room.bytes_per_block));
    }
    const uint64_t blocks_per_context = (uint64_t(context_length) + block_size - 1) / block_size;
    if (blocks_per_context > kMaxKvPoolBlocks) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("a context of {} tokens in blocks of {} needs more than "
                                                            "2^31 KV blocks", context_length, block_size));
    }
    const uint64_t context_bytes = blocks_per_context * room.bytes_per_block;
    const uint64_t usable = room.free_bytes > room.reserve_bytes ? room.free_bytes - room.reserve_bytes : 0;
    if (usable < context_bytes) {
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("the KV cache of one context ({} tokens, {} blocks of {}) needs {} bytes ({:.2f} GiB) "
                                "but only {} bytes ({:.2f} GiB) of GPU memory are free after loading the model, {} of "
                                "them kept in reserve for work buffers; use a smaller context (-c), a q8_0 KV cache "
                                "or a smaller quantization",
                                context_length, blocks_per_context, block_size, context_bytes, gib(context_bytes),
                                room.free_bytes, gib(room.free_bytes), std::min(room.reserve_bytes, room.free_bytes)));
    }
    // long double: fraction * free_bytes must not round above free_bytes for large counts.
    const uint64_t share = uint64_t((long double)fraction * (long double)room.free_bytes);
    const uint64_t budget = std::min(share, usable);
    const uint64_t n_blocks = std::max(budget / room.bytes_per_block, blocks_per_context);
    return uint32_t(std::min<uint64_t>(n_blocks, kMaxKvPoolBlocks));
}

}  // namespace llcuda
