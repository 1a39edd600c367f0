#include "core/quant/methods.hpp"
#include "core/util/error.hpp"

#include <sstream>

namespace qs::quant {

const std::vector<std::string>& methodNames()
{
    static const std::vector<std::string> names = {"rtn", "absmax", "smoothquant", "gptq", "awq", "nf4"};
    return names;
}

std::unique_ptr<Method> makeMethod(const QuantConfig& c)
{
    if (c.method == "rtn")
        return makeRtnMethod(c);
    if (c.method == "absmax")
        return makeAbsmaxMethod(c);
    if (c.method == "nf4")
        return makeNf4Method(c);
    if (c.method == "gptq")
        return makeGptqMethod(c);
    if (c.method == "awq")
        return makeAwqMethod(c);
    if (c.method == "smoothquant")
        return makeSmoothQuantMethod(c);
    throw Error("unknown quantization method '" + c.method + "' (rtn, absmax, smoothquant, gptq, awq, nf4)");
}

std::string QuantConfig::describe() const
{
    std::ostringstream s;
    s << method;
    if (method == "rtn" || method == "gptq" || method == "awq") {
        s << " w" << bits << (groupSize > 0 ? " g" + std::to_string(groupSize) : std::string(" per-channel"))
          << (symmetric ? " sym" : " asym");
        if (method == "gptq")
            s << " damp " << damp << (actOrder ? " act-order" : "") << (staticGroups ? " static-groups" : "");
    } else if (method == "absmax") {
        s << " w8 " << (perTensor ? "per-tensor" : "per-channel");
        if (outlierThreshold > 0)
            s << " outliers>" << outlierThreshold;
    } else if (method == "smoothquant") {
        s << " w8a8 alpha " << alpha
          << (activationQuant == ActivationQuant::PerTokenDynamic ? " per-token" : " per-tensor-static");
    } else if (method == "nf4") {
        s << (fp4 ? " fp4" : " nf4") << " b" << nf4BlockSize << (doubleQuant ? " dq" : "");
    }
    return s.str();
}

} // namespace qs::quant
