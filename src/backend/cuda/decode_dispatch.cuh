// Value-by-value decoding of any uploaded matrix (both layouts, every supported type), and the host
// switch that picks the template instance for a DeviceMatrix. Used by the GEMM scratch
// dequantization (matmul_dequant.cu) and the embedding lookup (embed.cu).
#pragma once

#include <type_traits>

#include "backend/cuda/dequant.cuh"
#include "backend/cuda/matmul_internal.h"
#include "llcuda/error.h"

namespace llcuda::cuda {

// The matrix as kernels see it: value(row, col) for one type and layout.
template <GgmlType T, bool Tile>
struct MatrixDecoder {
    const uint8_t* quant;
    const uint8_t* side;
    uint64_t per_row;  // rows: blocks per row; tile: 64-column chunks per row tile

    explicit MatrixDecoder(const DeviceMatrix& w)
        : quant(w.data), side(w.data + w.aux_offset),
          per_row(Tile ? tile4_chunks(w.n_cols) : rows_blocks_per_row(w.type, w.n_cols)) {}

    __device__ __forceinline__ float operator()(uint64_t row, uint64_t col) const {
        if constexpr (Tile) return tile4_value_at<T>(quant, side, per_row, row, col);
        else return rows_value_at<T>(quant, side, per_row, row, col);
    }
};

template <GgmlType T>
using TypeTag = std::integral_constant<GgmlType, T>;
template <bool B>
using TileTag = std::bool_constant<B>;

// Calls fn(TypeTag<T>{}, TileTag<tile>{}) for the matrix's type and layout.
template <class Fn>
void dispatch_decoder(const DeviceMatrix& w, Fn&& fn) {
    if (w.layout == kLayoutTile4) {
        if (w.type == GgmlType::Q4_0) return fn(TypeTag<GgmlType::Q4_0>{}, TileTag<true>{});
        if (w.type == GgmlType::Q4_K) return fn(TypeTag<GgmlType::Q4_K>{}, TileTag<true>{});
    } else if (w.layout == kLayoutRows) {
        switch (w.type) {
            case GgmlType::F32: return fn(TypeTag<GgmlType::F32>{}, TileTag<false>{});
            case GgmlType::F16: return fn(TypeTag<GgmlType::F16>{}, TileTag<false>{});
            case GgmlType::BF16: return fn(TypeTag<GgmlType::BF16>{}, TileTag<false>{});
            case GgmlType::Q8_0: return fn(TypeTag<GgmlType::Q8_0>{}, TileTag<false>{});
            case GgmlType::Q4_1: return fn(TypeTag<GgmlType::Q4_1>{}, TileTag<false>{});
            case GgmlType::Q5_0: return fn(TypeTag<GgmlType::Q5_0>{}, TileTag<false>{});
            case GgmlType::Q5_1: return fn(TypeTag<GgmlType::Q5_1>{}, TileTag<false>{});
            case GgmlType::IQ4_NL: return fn(TypeTag<GgmlType::IQ4_NL>{}, TileTag<false>{});
            case GgmlType::Q2_K: return fn(TypeTag<GgmlType::Q2_K>{}, TileTag<false>{});
            case GgmlType::Q3_K: return fn(TypeTag<GgmlType::Q3_K>{}, TileTag<false>{});
            case GgmlType::Q5_K: return fn(TypeTag<GgmlType::Q5_K>{}, TileTag<false>{});
            case GgmlType::Q6_K: return fn(TypeTag<GgmlType::Q6_K>{}, TileTag<false>{});
            case GgmlType::IQ4_XS: return fn(TypeTag<GgmlType::IQ4_XS>{}, TileTag<false>{});
            default: break;
        }
    }
    throw Error(ErrorKind::Internal, "no decoder for " + describe_matrix(w) + " in layout " + std::to_string(w.layout));
}

}  // namespace llcuda::cuda
