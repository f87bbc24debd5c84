/* Oracle shim around ggml itself, so tests/oracles/quant_ggml_golden.py can record ggml's exact
 * output for what gguf-py lacks (K-quants, IQ4, imatrix variants, Q1_0/Q2_0/NVFP4/Q8_1).
 *
 * stdin (little-endian): u32 mode, u32 type, u32 n_rows, u32 n_per_row, u32 has_imatrix, then
 *   mode 0 (ggml_quantize_chunk, what llama-quantize calls) or
 *   mode 1 (the type's from_float_ref):  f32[n_rows * n_per_row] rows, f32[n_per_row] imatrix
 *   mode 2 (the type's to_float):        n_rows * ggml_row_size(type, n_per_row) block bytes
 * stdout: quantized bytes (modes 0, 1) or f32 values (mode 2).
 * Build: see quant_ggml_golden.py (links ggml-base from a llama.cpp checkout). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ggml.h"

static void read_all(void* p, size_t n) {
    if (fread(p, 1, n, stdin) != n) {
        fprintf(stderr, "short read\n");
        exit(1);
    }
}

int main(void) {
    uint32_t h[5];
    read_all(h, sizeof h);
    const enum ggml_type type = (enum ggml_type)h[1];
    const int64_t n_rows = h[2], n_per_row = h[3], n = n_rows * n_per_row;
    const size_t row_size = ggml_row_size(type, n_per_row);
    const struct ggml_type_traits* traits = ggml_get_type_traits(type);
    if (h[0] == 2) {
        void* blocks = malloc(row_size * (size_t)n_rows);
        float* out = malloc(sizeof(float) * (size_t)n);
        read_all(blocks, row_size * (size_t)n_rows);
        if (!traits->to_float) return 3;
        traits->to_float(blocks, out, n);
        fwrite(out, sizeof(float), (size_t)n, stdout);
        return 0;
    }
    float* rows = malloc(sizeof(float) * (size_t)n);
    float* imatrix = h[4] ? malloc(sizeof(float) * (size_t)n_per_row) : NULL;
    read_all(rows, sizeof(float) * (size_t)n);
    if (imatrix) read_all(imatrix, sizeof(float) * (size_t)n_per_row);
    void* out = malloc(row_size * (size_t)n_rows);
    size_t written = row_size * (size_t)n_rows;
    if (h[0] == 1) {
        if (!traits->from_float_ref) return 3;
        traits->from_float_ref(rows, out, n);
    } else {
        ggml_quantize_init(type);
        written = ggml_quantize_chunk(type, rows, out, 0, n_rows, n_per_row, imatrix);
    }
    fwrite(out, 1, written, stdout);
    return written == row_size * (size_t)n_rows ? 0 : 2;
}
