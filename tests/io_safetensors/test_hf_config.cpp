// HF config.json -> ArchSpec for each supported family, with texts modelled on the real
// configs of the named checkpoints, and the errors for bad or unsupported ones.
#include "common/test_support.hpp"
#include "core/model/arch_spec.hpp"
#include "core/util/error.hpp"

#include <nlohmann/json.hpp>

#include <QtTest/QtTest>

using qs::model::ArchSpec;
using qs::model::parseHfConfigText;

namespace {

// meta-llama/Llama-2-7b-hf
const char* kLlama2 = R"({
  "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "tie_word_embeddings": false,
  "torch_dtype": "float16", "transformers_version": "4.31.0.dev0", "use_cache": true, "vocab_size": 32000
})";

// meta-llama/Llama-3.1-8B-Instruct
const char* kLlama31 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 128256
})";

// meta-llama/Llama-3.2-1B as saved by transformers >= 4.56: "dtype", old "type" key in rope_scaling.
const char* kLlama32New = R"({
  "architectures": ["LlamaForCausalLM"], "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64,
  "hidden_size": 2048, "intermediate_size": 8192, "max_position_embeddings": 131072, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "dtype": "bfloat16", "vocab_size": 128256
})";

// mistralai/Mistral-7B-v0.1
const char* kMistral = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
  "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000
})";

// Qwen/Qwen2.5-0.5B
const char* kQwen25 = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
  "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
  "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
  "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1", "use_cache": true, "use_mrope": false, "use_sliding_window": false,
  "vocab_size": 151936
})";

// Qwen/Qwen3-0.6B: head_dim 128 although hidden/heads is 64.
const char* kQwen3 = R"({
  "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
  "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
  "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
  "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false,
  "vocab_size": 151936
})";

// EleutherAI/pythia-70m: a different family with differently named fields.
const char* kGptNeoX = R"({
  "architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu",
  "hidden_size": 512, "intermediate_size": 2048, "max_position_embeddings": 2048, "model_type": "gpt_neox",
  "num_attention_heads": 8, "num_hidden_layers": 6, "rotary_pct": 0.25, "vocab_size": 50304
})";

ArchSpec parse(const char* text)
{
    return parseHfConfigText(text, "/models/x/config.json");
}

// Replaces (or with value "" removes) one top-level key of a config text.
std::string withKey(const char* text, const std::string& key, const std::string& jsonValue)
{
    auto j = nlohmann::json::parse(text);
    if (jsonValue.empty())
        j.erase(key);
    else
        j[key] = nlohmann::json::parse(jsonValue);
    return j.dump();
}

class HfConfigTest : public QObject {
    Q_OBJECT

    // The error must be a FormatError naming the file and containing `fragment`.
    void expectFormatError(const std::string& text, const std::string& fragment)
    {
        try {
            parseHfConfigText(text, "/models/x/config.json");
            QFAIL(qPrintable(QString("no error; expected one about ") + fragment.c_str()));
        } catch (const qs::io::FormatError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("/models/x/config.json") != std::string::npos, e.what());
            QVERIFY2(msg.find(fragment) != std::string::npos, e.what());
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QString("wrong exception type: ") + e.what()));
        }
    }

private slots:
    void llama2()
    {
        const auto s = parse(kLlama2);
        QVERIFY(s.supported);
        QCOMPARE(s.architecture, std::string("LlamaForCausalLM"));
        QCOMPARE(s.modelType, std::string("llama"));
        QCOMPARE(s.vocabSize, 32000);
        QCOMPARE(s.hiddenSize, 4096);
        QCOMPARE(s.intermediateSize, 11008);
        QCOMPARE(s.numLayers, 32);
        QCOMPARE(s.numHeads, 32);
        QCOMPARE(s.numKvHeads, 32);
        QCOMPARE(s.headDim, 128);
        QCOMPARE(s.maxPositionEmbeddings, 4096);
        QCOMPARE(s.rmsNormEps, 1e-5);
        QCOMPARE(s.ropeTheta, 10000.0); // absent -> default
        QVERIFY(!s.ropeScaling);
        QVERIFY(!s.tieWordEmbeddings && !s.qkvBias && !s.qkNorm && !s.slidingWindow);
        QCOMPARE(s.torchDtype, std::string("float16"));
        QCOMPARE(s.bosTokenId, std::optional<std::int64_t>(1));
        QCOMPARE(s.eosTokenId, std::optional<std::int64_t>(2));
    }

    void llama31RopeScaling()
    {
        const auto s = parse(kLlama31);
        QVERIFY(s.supported);
        QCOMPARE(s.numKvHeads, 8); // GQA
        QCOMPARE(s.headDim, 128);
        QCOMPARE(s.ropeTheta, 500000.0);
        QVERIFY(s.ropeScaling.has_value());
        QCOMPARE(s.ropeScaling->type, std::string("llama3"));
        QCOMPARE(s.ropeScaling->factor, 8.0);
        QCOMPARE(s.ropeScaling->lowFreqFactor, 1.0);
        QCOMPARE(s.ropeScaling->highFreqFactor, 4.0);
        QCOMPARE(s.ropeScaling->originalMaxPositionEmbeddings, 8192);
        QCOMPARE(s.eosTokenId, std::optional<std::int64_t>(128001)); // first of the list
        QCOMPARE(s.bosTokenId, std::optional<std::int64_t>(128000));
        QCOMPARE(s.torchDtype, std::string("bfloat16"));
    }

    void llama32NewKeysAndTiedEmbeddings()
    {
        const auto s = parse(kLlama32New);
        QVERIFY(s.supported);
        QVERIFY(s.tieWordEmbeddings);
        QCOMPARE(s.headDim, 64);
        QCOMPARE(s.torchDtype, std::string("bfloat16")); // from "dtype"
        QCOMPARE(s.ropeScaling->type, std::string("llama3")); // from old "type"
        QCOMPARE(s.ropeScaling->factor, 32.0);
    }

    void mistralSlidingWindow()
    {
        const auto s = parse(kMistral);
        QVERIFY(s.supported);
        QCOMPARE(s.modelType, std::string("mistral"));
        QCOMPARE(s.slidingWindow, std::optional<std::int64_t>(4096));
        QCOMPARE(s.numKvHeads, 8);
        QVERIFY(!s.qkvBias && !s.qkNorm);
        // Mistral v0.3 writes null: no window.
        QVERIFY(!parseHfConfigText(withKey(kMistral, "sliding_window", "null"), "c.json").slidingWindow);
    }

    void qwen2QkvBias()
    {
        const auto s = parse(kQwen25);
        QVERIFY(s.supported);
        QVERIFY(s.qkvBias);
        QVERIFY(!s.qkNorm);
        QVERIFY(s.tieWordEmbeddings);
        QCOMPARE(s.headDim, 64);
        QCOMPARE(s.numKvHeads, 2);
        QCOMPARE(s.ropeTheta, 1e6);
        QCOMPARE(s.rmsNormEps, 1e-6);
        QVERIFY(!s.slidingWindow); // present but use_sliding_window is false
    }

    void qwen3QkNormAndHeadDim()
    {
        const auto s = parse(kQwen3);
        QVERIFY(s.supported);
        QVERIFY(s.qkNorm);
        QVERIFY(!s.qkvBias);
        QCOMPARE(s.headDim, 128); // from config, not 1024 / 16
        QCOMPARE(s.numHeads, 16);
        QCOMPARE(s.numKvHeads, 8);
        QCOMPARE(s.ropeTheta, 1e6); // integer in the JSON
        QCOMPARE(s.eosTokenId, std::optional<std::int64_t>(151645));
    }

    void defaults()
    {
        // num_key_value_heads absent -> num_attention_heads; rope_theta absent -> 10000.
        const auto s = parseHfConfigText(withKey(withKey(kLlama31, "num_key_value_heads", "").c_str(), "rope_theta", ""), "c.json");
        QCOMPARE(s.numKvHeads, 32);
        QCOMPARE(s.ropeTheta, 10000.0);
        // No architectures but a known model_type still resolves.
        const auto t = parseHfConfigText(withKey(kQwen3, "architectures", ""), "c.json");
        QVERIFY(t.supported);
        QCOMPARE(t.architecture, std::string("Qwen3ForCausalLM"));
    }

    void unknownArchitecture()
    {
        try {
            const auto s = parse(kGptNeoX);
            QVERIFY(!s.supported);
            QCOMPARE(s.unsupportedReason, std::string("not supported yet: GPTNeoXForCausalLM"));
            QCOMPARE(s.architecture, std::string("GPTNeoXForCausalLM"));
            QCOMPARE(s.hiddenSize, 512); // best effort for display
            // Missing fields in an unknown architecture are not an error.
            const auto t = parseHfConfigText(R"({"architectures": ["T5ForConditionalGeneration"], "d_model": 512})", "c.json");
            QVERIFY(!t.supported);
            QCOMPARE(t.unsupportedReason, std::string("not supported yet: T5ForConditionalGeneration"));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void errors()
    {
        expectFormatError("{\"architectures\": [\"LlamaForCausalLM\"], ", "invalid JSON");
        expectFormatError("[1, 2]", "JSON object");
        expectFormatError(withKey(kLlama2, "hidden_size", ""), "\"hidden_size\"");
        expectFormatError(withKey(kLlama2, "num_hidden_layers", ""), "\"num_hidden_layers\"");
        expectFormatError(withKey(kQwen3, "vocab_size", ""), "\"vocab_size\"");
        expectFormatError(withKey(kMistral, "intermediate_size", "-5"), "\"intermediate_size\"");
        expectFormatError(withKey(kMistral, "num_attention_heads", "0"), "\"num_attention_heads\"");
        expectFormatError(withKey(kMistral, "hidden_size", "\"4096\""), "\"hidden_size\"");
        expectFormatError(withKey(kMistral, "hidden_size", "4096.5"), "\"hidden_size\"");
        expectFormatError(withKey(kLlama2, "hidden_size", "4090"), "not divisible by num_attention_heads");
        expectFormatError(withKey(kLlama31, "num_key_value_heads", "5"), "not divisible by num_key_value_heads");
        expectFormatError(withKey(kLlama2, "rms_norm_eps", "\"small\""), "\"rms_norm_eps\"");
        expectFormatError(withKey(kLlama2, "tie_word_embeddings", "1"), "\"tie_word_embeddings\"");
        expectFormatError(withKey(kLlama2, "rope_scaling", "[1]"), "\"rope_scaling\"");
        expectFormatError(withKey(kLlama2, "eos_token_id", "\"</s>\""), "\"eos_token_id\"");
        expectFormatError(withKey(kLlama2, "architectures", "\"LlamaForCausalLM\""), "\"architectures\"");
        expectFormatError(withKey(kLlama31, "rope_scaling", R"({"rope_type": "llama3", "factor": 8.0})"),
                          "original_max_position_embeddings");
        expectFormatError(std::string("{\"model_type\": \"llama\", \"x\": \"\xff\"}"), "invalid JSON");
        expectFormatError(R"({"architectures": ["LlamaForCausalLM"], "intermediate_size": 121e3088})", "invalid JSON"); // fuzz finding
    }

    void fromFile()
    {
        qs::test::ScratchDir dir;
        qs::test::writeFile(dir / "config.json", kQwen3);
        try {
            const auto s = qs::model::parseHfConfig(dir / "config.json");
            QVERIFY(s.qkNorm);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        QVERIFY_THROWS_EXCEPTION(qs::io::NotFoundError, qs::model::parseHfConfig(dir / "missing.json"));
        qs::test::writeFile(dir / "bad.json", "{");
        try {
            qs::model::parseHfConfig(dir / "bad.json");
            QFAIL("no error");
        } catch (const qs::io::FormatError& e) {
            QVERIFY2(std::string(e.what()).find((dir / "bad.json").string()) != std::string::npos, e.what());
        }
    }
};

} // namespace

QTEST_APPLESS_MAIN(HfConfigTest)
#include "test_hf_config.moc"
