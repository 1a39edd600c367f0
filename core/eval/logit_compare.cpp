#include "core/eval/logit_compare.hpp"

#include "core/util/error.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qs::eval {

static void softmaxRow(const Eigen::Ref<const Eigen::RowVectorXf>& logits, std::vector<double>& p)
{
    p.resize(std::size_t(logits.size()));
    const double mx = logits.maxCoeff();
    double sum = 0;
    for (Eigen::Index j = 0; j < logits.size(); ++j)
        sum += p[std::size_t(j)] = std::exp(double(logits[j]) - mx);
    for (auto& v : p)
        v /= sum;
}

void LogitComparer::add(const runtime::Mat& reference, const runtime::Mat& test)
{
    if (reference.rows() != test.rows() || reference.cols() != test.cols())
        throw Error("logit comparison: shapes differ");
    std::vector<double> p, q;
    for (Eigen::Index r = 0; r < reference.rows(); ++r) {
        softmaxRow(reference.row(r), p);
        softmaxRow(test.row(r), q);
        double kl = 0;
        for (std::size_t j = 0; j < p.size(); ++j)
            if (p[j] > 0)
                kl += p[j] * (std::log(p[j]) - std::log(std::max(q[j], 1e-300)));
        kl = std::max(kl, 0.0);
        const auto top = std::size_t(std::max_element(p.begin(), p.end()) - p.begin());
        const auto topTest = std::size_t(std::max_element(q.begin(), q.end()) - q.begin());
        const double d = q[top] - p[top];
        ++n_;
        klSum_ += kl;
        klMax_ = std::max(klMax_, kl);
        agree_ += top == topTest ? 1.0 : 0.0;
        dSum_ += d;
        dSq_ += d * d;
    }
}

LogitComparison LogitComparer::result() const
{
    LogitComparison c;
    c.positions = n_;
    if (n_ == 0)
        return c;
    c.meanKl = klSum_ / double(n_);
    c.maxKl = klMax_;
    c.top1Agreement = agree_ / double(n_);
    c.meanTopProbChange = dSum_ / double(n_);
    c.rmsTopProbChange = std::sqrt(dSq_ / double(n_));
    return c;
}

LogitComparison compareModels(const runtime::Transformer& reference, const runtime::Transformer& test,
                              std::span<const std::int32_t> tokens, int ctx, int maxWindows, jobs::Progress* progress)
{
    if (ctx < 2)
        throw Error("logit comparison: ctx must be at least 2");
    std::size_t windows = tokens.size() / std::size_t(ctx);
    if (maxWindows > 0)
        windows = std::min(windows, std::size_t(maxWindows));
    if (windows == 0)
        throw Error("logit comparison: fewer tokens than one window of " + std::to_string(ctx));
    if (progress)
        progress->beginStage("comparing with the original model");
    LogitComparer cmp;
    for (std::size_t w = 0; w < windows; ++w) {
        const auto window = tokens.subspan(w * std::size_t(ctx), std::size_t(ctx));
        cmp.add(reference.forward(window), test.forward(window));
        if (progress)
            progress->report(double(w + 1) / double(windows));
    }
    return cmp.result();
}

double relativeOutputError(const runtime::LinearOp& reference, const runtime::LinearOp& test, const runtime::Mat& x)
{
    runtime::Mat a, b;
    reference.forward(x, a);
    test.forward(x, b);
    const double denom = a.norm();
    return denom > 0 ? double((a - b).norm()) / denom : double((a - b).norm());
}

} // namespace qs::eval
