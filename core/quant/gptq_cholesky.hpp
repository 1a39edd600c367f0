#pragma once
// The Cholesky factor GPTQ's sweep needs, H = R R^T with R upper triangular (the factor of H
// read from its last row up). With it, U = R^-1 is the upper factor of H^-1 that gptq.py builds
// with three k^3 steps (cholesky, cholesky_inverse, cholesky(upper)); here it is one k^3/3 step,
// blocked, with the panel solves and the trailing updates split over a thread pool.
#include "core/util/thread_pool.hpp"

#include <Eigen/Core>

namespace qs::quant {

// In place over the upper triangle of a (the strict lower triangle is read never and left
// zero). Returns false when a is not numerically positive definite (a pivot <= 0 or not finite);
// a then holds partial results. panel: the block width (columns factored per step).
template <typename T>
bool upperCholeskyInPlace(Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& a, ThreadPool& pool, int panel = 256);

extern template bool upperCholeskyInPlace<float>(Eigen::MatrixXf&, ThreadPool&, int);
extern template bool upperCholeskyInPlace<double>(Eigen::MatrixXd&, ThreadPool&, int);

} // namespace qs::quant
