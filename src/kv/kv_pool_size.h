// Sizing the KV pool from the device memory left once a model is loaded
// (LoadOptions::kv_memory_fraction, `llcuda serve --kv-memory`), like vLLM's gpu_memory_utilization
// but measured after the weights and the backend's fixed buffers are allocated:
//
//   budget   = min(fraction * free_bytes, free_bytes - reserve_bytes)
//   n_blocks = budget / bytes_per_block, raised to one full context, capped at kMaxKvPoolBlocks
//
// The reserve is what stays free whatever the fraction (buffers a backend grows on first use), so
// fraction 1 never takes the last byte. One context is the floor because the scheduler preempts
// others until a request runs alone (docs/scheduler.md): a pool smaller than that is an error.
#pragma once

#include <cstdint>
#include <functional>

namespace llcuda {

// What a backend reports once its weights and fixed buffers are allocated.
struct DeviceKvRoom {
    uint64_t free_bytes = 0;       // device memory free now
    uint64_t reserve_bytes = 0;    // to leave free: workspaces that grow on first use
    uint64_t bytes_per_block = 0;  // K and V of one block, every layer, as the backend stores them
};

// A backend that sizes its pool from memory calls this once its fixed allocations are made; the
// block count it returns replaces KvCacheShape::n_blocks (the engine builds its block table with it).
using KvPoolSizer = std::function<uint32_t(const DeviceKvRoom&)>;

// Page tables hold block ids as int32 on the device.
constexpr uint32_t kMaxKvPoolBlocks = 0x7fffffffu;

// The pool's block count. Throws InvalidArgument for a fraction outside (0, 1] or a zero block size,
// context or block byte count; OutOfMemory, naming the bytes one context needs and the bytes free
// (and reserved), when not even one context fits.
uint32_t kv_blocks_for_memory(const DeviceKvRoom& room, float fraction, uint32_t block_size, uint32_t context_length);

}  // namespace llcuda
