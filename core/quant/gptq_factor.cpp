// factorGptqHessian: dead columns, act-order permutation, damping retries and the upper
// Cholesky factor R (H = R R^T) the sweep reads, once per distinct Hessian.
#include "core/quant/gptq_cholesky.hpp"
#include "core/quant/gptq_solver.hpp"

#include "core/util/error.hpp"
#include "core/util/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

namespace qs::quant {

namespace {

// The permuted Hessian with dead diagonals set to 1 and damp * mean(diag) added, factored in T.
// h need not be exactly symmetric (an f32 sum): each pair is averaged on the way.
// With a productBackend (single precision) the factorization's products run there and R stays
// on it (f's deviceR).
template <typename T, typename HMat>
bool dampedFactor(const HMat& h, const std::vector<int>& perm, const std::vector<double>& diag,
                  double addend, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& r, GptqFactor& f,
                  compute::Backend* backend)
{
    ThreadPool& pool = ThreadPool::shared();
    const int k = int(h.rows());
    r.resize(k, k);
    pool.parallelFor(
        k,
        [&](std::int64_t b, std::int64_t e) {
            for (int j = int(b); j < int(e); ++j) {
                const int pj = perm[std::size_t(j)];
                for (int i = 0; i < j; ++i) { // the upper triangle is all the factorization reads
                    const int pi = perm[std::size_t(i)];
                    r(i, j) = T(0.5 * (double(h(pi, pj)) + double(h(pj, pi))));
                }
                r(j, j) = T(diag[std::size_t(pj)] + addend);
            }
        },
        16);
    if constexpr (std::is_same_v<T, float>) {
        if (backend) {
            f.deviceRBackend = backend;
            return upperCholeskyWithBackend(r, *backend, pool, f.deviceR, &f.deviceTimes);
        }
    }
    return upperCholeskyInPlace<T>(r, pool);
}

template <typename HMat>
GptqFactor factorHessian(const HMat& h, const GptqOptions& o)
{
    const int k = int(h.rows());
    if (h.cols() != k || k == 0)
        throw Error("gptq: the Hessian is " + std::to_string(h.rows()) + "x" + std::to_string(h.cols()) +
                    ", not square");
    GptqFactor f;
    f.k = k;
    f.precision = o.precision;
    f.actOrder = o.actOrder;
    f.damp = o.damp;
    f.maxDampTries = o.maxDampTries;

    // Dead inputs (never non-zero in calibration) carry no information: diagonal 1, weights 0.
    std::vector<double> diag(static_cast<std::size_t>(k));
    for (int c = 0; c < k; ++c) {
        diag[std::size_t(c)] = double(h(c, c));
        if (h(c, c) == 0) {
            diag[std::size_t(c)] = 1.0;
            f.dead.push_back(c);
        }
    }
    f.perm.resize(std::size_t(k));
    std::iota(f.perm.begin(), f.perm.end(), 0);
    if (o.actOrder) // stable, so equal diagonals keep their order and runs are reproducible
        std::stable_sort(f.perm.begin(), f.perm.end(),
                         [&](int a, int b) { return diag[std::size_t(a)] > diag[std::size_t(b)]; });
    const double meanDiag = std::accumulate(diag.begin(), diag.end(), 0.0) / k;

    const int tries = std::max(1, o.maxDampTries);
    double fraction = o.damp;
    for (f.dampTries = 1; f.dampTries <= tries; ++f.dampTries, fraction *= 10.0) {
        const bool ok = o.precision == GptqPrecision::Double
                            ? dampedFactor<double>(h, f.perm, diag, fraction * meanDiag, f.r, f, nullptr)
                            : dampedFactor<float>(h, f.perm, diag, fraction * meanDiag, f.rSingle, f, o.productBackend);
        if (ok) {
            f.dampUsed = fraction;
            return f;
        }
    }
    throw Error("gptq: the Hessian is not positive definite even with damp " +
                std::to_string(o.damp * std::pow(10.0, tries - 1)) + " of its mean diagonal (non-finite inputs?)");
}

} // namespace

GptqFactor factorGptqHessian(const Eigen::MatrixXd& h, const GptqOptions& o) { return factorHessian(h, o); }

GptqFactor factorGptqHessian(const runtime::Mat& h, const GptqOptions& o) { return factorHessian(h, o); }

} // namespace qs::quant
