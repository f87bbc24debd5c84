// Scale searches shared by the K-quant, legacy-imatrix and IQ4 quantizers (docs/block-formats.md §K-quant scale searches).
// Each picks integer codes L for a short vector x and returns the float scale that best
// reconstructs x from them under a (weighted) squared error.
#pragma once

#include <cstdint>

namespace llcuda::quant {

inline constexpr float kGroupMaxEps = 1e-15f;  // vectors with max |x| below this quantize to 0

// Symmetric codes L[i] in 0..2*nmax-1 (value = L - nmax) and scale. Weights: `weights` if given,
// else by rmse_type (1: x^2, 2: 1, 3: |x|, 4: sqrt|x|). rmse_type 0 = plain rounding at
// -nmax/max. Tries 18 nearby scales and keeps the best weighted least-squares fit.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* weights);

// Like make_qx_quants with weights x^2, then coordinate-descent refinement of each code (Q3_K).
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);

// Asymmetric search: codes L in 0..nmax, x ~ scale * L - the_min. Tries nstep+1 candidate
// inverse scales (rmin + rdelta*is + nmax) / (max - min), solving the 2x2 weighted least-squares
// problem for (scale, min) each time. `weights` nullptr means x^2. use_mad: absolute instead of
// squared error. `laux` is n bytes of scratch.
float make_qkx_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                      uint8_t* laux, float rmin, float rdelta, int nstep, bool use_mad);

// Quantizes non-negative values (sub-block scales or mins) to 0..nmax with weights; returns the
// super-scale.
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* weights);

// Index of the table entry nearest to x in a sorted int8 table; an exact midpoint goes up.
int best_index_int8(int n, const int8_t* values, float x);

}  // namespace llcuda::quant
