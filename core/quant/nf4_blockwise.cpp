#include "core/quant/nf4_blockwise.hpp"

#include "core/quant/groupwise.hpp"
#include "core/quant/nf4_codebooks.hpp"
#include "core/util/error.hpp"

#include <algorithm>
#include <cmath>

namespace qs::quant {

const std::array<float, 16>& fourBitLevels(FourBitType type)
{
    return type == FourBitType::Nf4 ? compute::kNf4Levels : kFp4Levels;
}

FourBitBlocks quantizeFourBitBlocks(const float* values, std::size_t count, int blockSize, FourBitType type)
{
    if (blockSize <= 0 || count % std::size_t(blockSize) != 0)
        throw Error("4-bit blocks: " + std::to_string(count) + " values do not split into blocks of " +
                    std::to_string(blockSize));
    FourBitBlocks r;
    r.codes.resize(count);
    r.absmax.resize(count / std::size_t(blockSize));
    const auto code = type == FourBitType::Nf4 ? nf4Code : fp4Code;
    const std::uint8_t zeroCode = code(0.0f);
    for (std::size_t b = 0; b < r.absmax.size(); ++b) {
        const float* v = values + b * std::size_t(blockSize);
        float m = 0.0f;
        for (int i = 0; i < blockSize; ++i)
            m = std::fmax(m, std::fabs(v[i]));
        r.absmax[b] = m;
        const float inv = 1.0f / m; // bitsandbytes multiplies by the reciprocal, not divides
        for (int i = 0; i < blockSize; ++i)
            r.codes[b * std::size_t(blockSize) + std::size_t(i)] = m > 0.0f ? code(v[i] * inv) : zeroCode;
    }
    return r;
}

DoubleQuantizedAbsmax doubleQuantize(const std::vector<float>& absmax, int blockSize)
{
    DoubleQuantizedAbsmax dq;
    if (absmax.empty())
        return dq;
    // torch's float32 mean accumulates wider than float; a double sum rounds the same way
    // for all but pathological inputs.
    double sum = 0;
    for (float a : absmax)
        sum += double(a);
    dq.offset = float(sum / double(absmax.size()));
    const auto& map = dynamicMap8Bit();
    const std::size_t n = absmax.size();
    dq.codes.resize(n);
    dq.scales.resize((n + std::size_t(blockSize) - 1) / std::size_t(blockSize));
    for (std::size_t b = 0; b < dq.scales.size(); ++b) {
        const std::size_t begin = b * std::size_t(blockSize), end = std::min(n, begin + std::size_t(blockSize));
        float m = 0.0f;
        for (std::size_t i = begin; i < end; ++i)
            m = std::fmax(m, std::fabs(absmax[i] - dq.offset));
        dq.scales[b] = m;
        const float inv = 1.0f / m;
        for (std::size_t i = begin; i < end; ++i)
            dq.codes[i] = m > 0.0f ? dynamicCode(map, (absmax[i] - dq.offset) * inv) : std::uint8_t(127); // map[127] = 0
    }
    return dq;
}

std::vector<float> reconstructAbsmax(const DoubleQuantizedAbsmax& dq, int blockSize)
{
    const auto& map = dynamicMap8Bit();
    std::vector<float> out(dq.codes.size());
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = map[dq.codes[i]] * dq.scales[i / std::size_t(blockSize)] + dq.offset;
    return out;
}

compute::Nf4 quantizeNf4(const runtime::Mat& w, bool doubleQuant)
{
    const int n = int(w.rows()), k = int(w.cols());
    if (k % compute::Nf4::kBlockSize != 0)
        throw Error("nf4: " + std::to_string(k) + " input features is not a multiple of the block size 64");
    const auto blocks = quantizeFourBitBlocks(w.data(), std::size_t(w.size()), compute::Nf4::kBlockSize, FourBitType::Nf4);
    compute::Nf4 q;
    q.n = n;
    q.k = k;
    q.codes = packCodes(blocks.codes, n, k, 4); // Mat is row-major: codes are in row order
    q.doubleQuant = doubleQuant;
    if (doubleQuant) {
        auto dq = doubleQuantize(blocks.absmax, compute::Nf4::kDoubleQuantBlock);
        q.absmaxCodes = std::move(dq.codes);
        q.absmaxScale = std::move(dq.scales);
        q.absmaxCodebook = dynamicMap8Bit();
        q.absmaxOffset = dq.offset;
    } else {
        q.absmax = blocks.absmax;
    }
    compute::validate(q);
    return q;
}

Fp4Result quantizeFp4(const runtime::Mat& w, int blockSize, bool doubleQuant)
{
    const auto blocks = quantizeFourBitBlocks(w.data(), std::size_t(w.size()), blockSize, FourBitType::Fp4);
    std::vector<float> absmax = blocks.absmax;
    double metadataBits = 32.0 * double(absmax.size());
    if (doubleQuant) {
        const auto dq = doubleQuantize(blocks.absmax, compute::Nf4::kDoubleQuantBlock);
        absmax = reconstructAbsmax(dq, compute::Nf4::kDoubleQuantBlock);
        metadataBits = 8.0 * double(dq.codes.size()) + 32.0 * double(dq.scales.size());
    }
    Fp4Result r;
    r.dequantized.resize(w.rows(), w.cols());
    for (Eigen::Index i = 0; i < w.size(); ++i)
        r.dequantized.data()[i] = kFp4Levels[blocks.codes[std::size_t(i)]] * absmax[std::size_t(i) / std::size_t(blockSize)];
    r.storageBitsPerWeight = 4.0 + metadataBits / double(w.size());
    return r;
}

} // namespace qs::quant
