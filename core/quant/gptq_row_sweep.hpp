#pragma once
// Internal to gptq_solver.cpp and gptq_sweep_device.cpp: GPTQ's sweep over a range of rows
// (rows only share R, so each range runs on its own), in pieces that a driver calls in order:
// the start of each run of spans gets the product of the errors before it with R, either here
// (the CPU driver) or from a GPU product for all rows at once (the device driver).
#include "core/quant/gptq_solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace qs::quant::detail {

template <typename T>
T codeOf(T w, T scale, T zero, int maxq)
{
    const T q = std::nearbyint(w / scale) + zero;
    return std::clamp(q, T(0), T(maxq));
}

// A span of columns swept together: [begin, end) is the lazy batch; the state at its start is
// computed for [begin, stateEnd) (further than end only where a group's params read columns
// past the batch, with paramsFromBatchStart).
struct Span {
    int begin, end, stateEnd;
};

std::vector<Span> spansOf(int k, int blockSize, bool dynamicGroups, int gs, bool paramsFromBatchStart);

// Columns whose starting state comes from one product with the errors before them (the CPU
// driver's; the device driver's is GptqOptions::deviceRunWidth).
constexpr int kSuperWidth = 512;

// The end of the state columns of the run of spans that starts at span s (spans are added while
// the run is narrower than width): the run's product covers [spans[s].begin, runEnd).
int runEnd(const std::vector<Span>& spans, std::size_t s, int width);

template <typename T>
const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& factorOf(const GptqFactor& f)
{
    if constexpr (std::is_same_v<T, double>)
        return f.r;
    else
        return f.rSingle;
}

// What every row range reads: the shape, the spans with their diagonal blocks of U = R^-1, and
// the result being filled.
template <typename T>
struct SweepPlan {
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const GptqFactor& f;
    const GptqOptions& o;
    const Mat& R;
    int n = 0, k = 0, gs = 0, groups = 0, maxq = 0;
    bool grouped = false, dynamicGroups = false;
    std::vector<char> dead;
    std::vector<Span> spans;
    std::vector<Mat> ub;  // per span, U over its state columns
    GptqResult& r;
    std::vector<double> rowLoss;
    int runWidth = kSuperWidth;

    SweepPlan(const GptqFactor& factor, const GptqOptions& options, int rows, int cols, GptqResult& result);
    void finish();  // loss and g_idx into r
};

void findParamsFloat(const float* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                     float& zero);
void findParamsDouble(const double* values, int count, int stride, const GroupGrid& grid, bool mse, float& scale,
                      float& zero);
inline void findParamsOf(const float* v, int count, int stride, const GroupGrid& grid, bool mse, float& scale, float& zero)
{
    findParamsFloat(v, count, stride, grid, mse, scale, zero);
}
inline void findParamsOf(const double* v, int count, int stride, const GroupGrid& grid, bool mse, float& scale, float& zero)
{
    findParamsDouble(v, count, stride, grid, mse, scale, zero);
}

// Rows [r0, r0 + nr) of the sweep. W holds them in sweep order; a column becomes its error
// w - q once quantized.
template <typename T, typename WMat>
class RowSweep {
public:
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

    RowSweep(SweepPlan<T>& plan, const WMat& w, int r0, int nr) : p_(plan), r0_(r0), nr_(nr)
    {
        const GptqOptions& o = p_.o;
        curScale_.resize(std::size_t(nr));
        curZero_.resize(std::size_t(nr));
        // Per channel, gptq.py finds the params once on the weights as given (before dead columns).
        if (!p_.grouped)
            for (int row = 0; row < nr; ++row) {
                findParamsOf(&w(r0 + row, 0), p_.k, int(w.colStride()), o.grid, o.mseGrid, curScale_[std::size_t(row)],
                             curZero_[std::size_t(row)]);
                setParams(row, 0, curScale_[std::size_t(row)], curZero_[std::size_t(row)]);
            }
        if (p_.grouped && o.staticGroups) {
            std::vector<double> seg(static_cast<std::size_t>(p_.gs));
            for (int row = 0; row < nr; ++row)
                for (int g = 0; g < p_.groups; ++g) {
                    for (int c = 0; c < p_.gs; ++c) {
                        const int col = g * p_.gs + c;
                        seg[std::size_t(c)] = p_.dead[std::size_t(col)] ? 0.0 : w(r0 + row, col);
                    }
                    float s, z;
                    findParamsOf(seg.data(), p_.gs, 1, o.grid, o.mseGrid, s, z);
                    setParams(row, g, s, z);
                }
        }
        W.resize(nr, p_.k);
        for (int j = 0; j < p_.k; ++j) {
            const int c = p_.f.perm[std::size_t(j)];
            if (p_.dead[std::size_t(c)])
                W.col(j).setZero();
            else
                W.col(j) = w.block(r0, c, nr, 1).template cast<T>();
        }
        err_.resize(nr);
    }

    // Starts the run of spans at span s: the errors before it times R, computed here.
    void startRun(std::size_t s)
    {
        const int i1 = p_.spans[s].begin;
        superBegin_ = i1;
        superEnd_ = runEnd(p_.spans, s, p_.runWidth);
        if (i1 > 0)
            acc_.noalias() = W.leftCols(i1) * p_.R.block(0, i1, i1, superEnd_ - i1);
        else
            acc_.setZero(nr_, superEnd_ - i1);
    }
    // The same with the product given (nr x (runEnd - begin), from all rows' product elsewhere).
    template <typename AccBlock>
    void startRun(std::size_t s, const AccBlock& product)
    {
        superBegin_ = p_.spans[s].begin;
        superEnd_ = runEnd(p_.spans, s, p_.runWidth);
        acc_ = product.template cast<T>();
    }
    bool needsRun(std::size_t s) const { return p_.spans[s].stateEnd > superEnd_; }

    // Quantizes span s's columns.
    void span(std::size_t s)
    {
        const GptqOptions& o = p_.o;
        const std::vector<int>& perm = p_.f.perm;
        const int gs = p_.gs, groups = p_.groups, maxq = p_.maxq, nr = nr_;
        const int i1 = p_.spans[s].begin, count = p_.spans[s].end - i1, m = p_.spans[s].stateEnd - i1;
        const Mat& u = p_.ub[s];
        // The span's weights with every earlier column's error applied: acc holds the errors
        // before the run (one long product), the rest is the run's own spans before i1.
        state_ = acc_.middleCols(i1 - superBegin_, m);
        if (i1 > superBegin_)
            state_.noalias() += W.middleCols(superBegin_, i1 - superBegin_) * p_.R.block(superBegin_, i1, i1 - superBegin_, m);
        state_ = state_ * u.template triangularView<Eigen::Upper>();
        state_ += W.middleCols(i1, m);
        W1_ = state_.leftCols(count);
        for (int i = 0; i < count; ++i) {
            const int col = i1 + i;
            if (p_.dynamicGroups && col % gs == 0) {
                // The group's weights as they stand now (all earlier errors applied), or as they
                // stood at the batch start with paramsFromBatchStart.
                const Mat& src = o.paramsFromBatchStart ? state_ : W1_;
                for (int row = 0; row < nr; ++row) {
                    findParamsOf(&src(row, i), gs, nr, o.grid, o.mseGrid, curScale_[std::size_t(row)],
                                 curZero_[std::size_t(row)]);
                    setParams(row, col / gs, curScale_[std::size_t(row)], curZero_[std::size_t(row)]);
                }
            }
            if (p_.grouped && o.staticGroups) {
                const int g = perm[std::size_t(col)] / gs;
                for (int row = 0; row < nr; ++row) {
                    const std::size_t at = std::size_t(r0_ + row) * std::size_t(groups) + std::size_t(g);
                    curScale_[std::size_t(row)] = p_.r.q.scales[at];
                    curZero_[std::size_t(row)] = p_.r.q.zeros[at];
                }
            }
            const T d = u(i, i);
            const int orig = perm[std::size_t(col)];
            for (int row = 0; row < nr; ++row) {
                const T x = W1_(row, i);
                const T sc = curScale_[std::size_t(row)], z = curZero_[std::size_t(row)];
                const T code = codeOf<T>(x, sc, z, maxq);
                const T q = (code - z) * sc;
                p_.r.q.codes[std::size_t(r0_ + row) * std::size_t(p_.k) + std::size_t(orig)] = std::uint8_t(code);
                if (o.keepDequantized)
                    p_.r.dequantized(r0_ + row, orig) = double(q);
                W(row, col) -= q;
                err_[row] = (x - q) / d;
                p_.rowLoss[std::size_t(r0_ + row)] += double(x - q) * double(x - q) / (double(d) * double(d)) / 2.0;
            }
            if (i + 1 < count)
                W1_.rightCols(count - i - 1).noalias() -= err_ * u.row(i).segment(i + 1, count - i - 1);
        }
    }

    Mat W;

private:
    void setParams(int row, int g, float s, float z)
    {
        const std::size_t at = std::size_t(r0_ + row) * std::size_t(p_.groups) + std::size_t(g);
        p_.r.q.scales[at] = s;
        p_.r.q.zeros[at] = z;
    }

    SweepPlan<T>& p_;
    int r0_, nr_;
    std::vector<float> curScale_, curZero_;
    Mat acc_, state_, W1_;
    Vec err_;
    int superBegin_ = 0, superEnd_ = 0;  // the columns acc covers
};

} // namespace qs::quant::detail
