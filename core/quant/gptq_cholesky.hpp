#pragma once
// The Cholesky factor GPTQ's sweep needs, H = R R^T with R upper triangular (the factor of H
// read from its last row up). With it, U = R^-1 is the upper factor of H^-1 that gptq.py builds
// with three k^3 steps (cholesky, cholesky_inverse, cholesky(upper)); here it is one k^3/3 step,
// blocked, with the panel solves and the trailing updates split over a thread pool.
#include "core/quant/gptq_solver.hpp"
#include "core/util/thread_pool.hpp"

#include <Eigen/Core>

#include <memory>

namespace qs::quant {

// In place over the upper triangle of a (the strict lower triangle is read never and left
// zero). Returns false when a is not numerically positive definite (a pivot <= 0 or not finite);
// a then holds partial results. panel: the block width (columns factored per step).
template <typename T>
bool upperCholeskyInPlace(Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& a, ThreadPool& pool, int panel = 256);

extern template bool upperCholeskyInPlace<float>(Eigen::MatrixXf&, ThreadPool&, int);
extern template bool upperCholeskyInPlace<double>(Eigen::MatrixXd&, ThreadPool&, int);

// The same in single precision with the bulk of the work on backend's gemmF32 (a GPU), read
// left-looking: each panel's columns first lose the product of the finished R to their right,
// R[:j1, j1:] R[panel, j1:]^T, computed where R lies, on the device (as R^T, row-major: a's
// column-major words, left in deviceR); the panel's diagonal block and the solve for the rows
// above it run here. Equal to upperCholeskyInPlace but for f32 rounding. times (optional) gets
// the products and uploads.
bool upperCholeskyWithBackend(Eigen::MatrixXf& a, compute::Backend& backend, ThreadPool& pool,
                              std::shared_ptr<compute::F32Matrix>& deviceR, GptqDeviceTimes* times, int panel = 256);

} // namespace qs::quant
