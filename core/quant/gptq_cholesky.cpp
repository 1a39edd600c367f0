#include "core/quant/gptq_cholesky.hpp"

#include "core/compute/backend.hpp"
#include "core/util/stage_timer.hpp"

#include <Eigen/Cholesky>

#include <chrono>
#include <vector>

#include <algorithm>
#include <cmath>

namespace qs::quant {

namespace {

template <typename T>
using Mat22 = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// R with R R^T = block (upper triangle read): J block J = L L^T, R = J L J.
template <typename T>
bool factorDiagonalBlock(const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& block,
                         Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& r)
{
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const Eigen::Index m = block.rows();
    Mat reversed = Mat::Zero(m, m);
    for (Eigen::Index j = 0; j < m; ++j)
        for (Eigen::Index i = j; i < m; ++i) // lower triangle of the reversed = upper of block
            reversed(i, j) = block(m - 1 - i, m - 1 - j);
    Eigen::LLT<Eigen::Ref<Mat>> llt(reversed);
    if (llt.info() != Eigen::Success)
        return false;
    r.setZero(m, m);
    for (Eigen::Index j = 0; j < m; ++j)
        for (Eigen::Index i = 0; i <= j; ++i)
            r(i, j) = reversed(m - 1 - i, m - 1 - j);
    return r.allFinite() && (r.diagonal().array() > T(0)).all();
}

} // namespace

template <typename T>
bool upperCholeskyInPlace(Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& a, ThreadPool& pool, int panel)
{
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const int k = int(a.rows());
    panel = std::max(1, panel);
    // H = [[H11, H12], [H21, H22]], R = [[R11, R12], [0, R22]]: R22 R22^T = H22, R12 = H12 R22^-T,
    // R11 R11^T = H11 - R12 R12^T. The last panel first, then the rest recursively.
    for (int j1 = k; j1 > 0; j1 -= panel) {
        const int j0 = std::max(0, j1 - panel), m = j1 - j0;
        Mat r22;
        if (!factorDiagonalBlock<T>(a.block(j0, j0, m, m), r22))
            return false;
        a.block(j0, j0, m, m) = r22;
        if (j0 == 0)
            break;
        pool.parallelFor(
            j0,
            [&](std::int64_t b, std::int64_t e) {
                auto x = a.block(b, j0, e - b, m);
                r22.transpose().template triangularView<Eigen::Lower>().template solveInPlace<Eigen::OnTheRight>(x);
            },
            64);
        // Upper triangle of H11 -= R12 R12^T, by column ranges of equal work (column c costs c):
        // the rectangle above each range in one product, its diagonal block in strips of
        // kStrip columns, so that little of the lower triangle is computed.
        constexpr int kStrip = 128;
        const int parts = std::max(1, std::min(pool.threads(), j0 / 16));
        auto bound = [&](int t) { return int(std::lround(double(j0) * std::sqrt(double(t) / parts))); };
        pool.parallelFor(parts, [&](std::int64_t b, std::int64_t e) {
            for (int t = int(b); t < int(e); ++t) {
                const int c0 = bound(t), c1 = bound(t + 1);
                if (c1 <= c0)
                    continue;
                if (c0 > 0)
                    a.block(0, c0, c0, c1 - c0).noalias() -=
                        a.block(0, j0, c0, m) * a.block(c0, j0, c1 - c0, m).transpose();
                for (int s0 = c0; s0 < c1; s0 += kStrip) {
                    const int s1 = std::min(c1, s0 + kStrip);
                    a.block(c0, s0, s1 - c0, s1 - s0).noalias() -=
                        a.block(c0, j0, s1 - c0, m) * a.block(s0, j0, s1 - s0, m).transpose();
                }
            }
        });
    }
    a.template triangularView<Eigen::StrictlyLower>().setZero();
    return a.allFinite();
}

template bool upperCholeskyInPlace<float>(Eigen::MatrixXf&, ThreadPool&, int);

bool upperCholeskyWithBackend(Eigen::MatrixXf& a, compute::Backend& backend, ThreadPool& pool,
                              std::shared_ptr<compute::F32Matrix>& deviceR, GptqDeviceTimes* times, int panel)
{
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    const int k = int(a.rows());
    panel = std::max(1, panel);
    deviceR = backend.makeF32Matrix(k, k);
    std::vector<float> product;
    for (int j1 = k; j1 > 0; j1 -= panel) {
        const int j0 = std::max(0, j1 - panel), m = j1 - j0;
        if (j1 < k) {
            // Rows [0, j1) of the panel: H - R[:j1, j1:] R[j0:j1, j1:]^T, computed transposed so
            // that each of the panel's columns is a row of the product: with T = R^T on the
            // device, (T[j1:, j0:j1])^T T[j1:, :j1].
            const auto t0 = Clock::now();
            prof::StageTimer timer("gptq.device.factor_product");
            product.resize(std::size_t(m) * std::size_t(j1));
            backend.gemmF32({deviceR.get(), j1, j0, k - j1, m}, true, {deviceR.get(), j1, 0, k - j1, j1}, false,
                            product.data(), j1);
            if (times) {
                times->products += since(t0);
                times->kernels += backend.lastKernelMs() * 1e-3;
                ++times->calls;
            }
            pool.parallelFor(
                m,
                [&](std::int64_t b, std::int64_t e) {
                    for (int c = int(b); c < int(e); ++c) {
                        const float* p = product.data() + std::size_t(c) * std::size_t(j1);
                        for (int i = 0; i <= j0 + c; ++i) // the upper triangle
                            a(i, j0 + c) -= p[i];
                    }
                },
                16);
        }
        Mat22<float> r22;
        if (!factorDiagonalBlock<float>(a.block(j0, j0, m, m), r22))
            return false;
        a.block(j0, j0, m, m) = r22;
        if (j0 > 0)
            pool.parallelFor(
                j0,
                [&](std::int64_t b, std::int64_t e) {
                    auto x = a.block(b, j0, e - b, m);
                    r22.transpose().triangularView<Eigen::Lower>().solveInPlace<Eigen::OnTheRight>(x);
                },
                64);
        // R[:j1, panel] to the device: rows j0.. of R^T, straight from a's columns (r22's strict
        // lower triangle is zero).
        const auto t0 = Clock::now();
        prof::StageTimer timer("gptq.device.factor_upload");
        backend.writeF32(*deviceR, j0, 0, m, j1, &a(0, j0), a.outerStride());
        if (times)
            times->uploads += since(t0);
    }
    a.triangularView<Eigen::StrictlyLower>().setZero();
    return a.allFinite();
}
template bool upperCholeskyInPlace<double>(Eigen::MatrixXd&, ThreadPool&, int);

} // namespace qs::quant
