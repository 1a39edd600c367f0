// LayerTreeModel over a fake checkpoint: structure, columns, roles, helpers, the proxy filter,
// and QAbstractItemModelTester's consistency checks across resets.
#include "fake_checkpoint.hpp"
#include "ui/models/layer_tree_model.hpp"

#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QtTest/QtTest>

#include <random>

using qs::ui::LayerTreeModel;

namespace {

std::vector<qs::io::TensorInfo> qwenLikeTensors(int blocks, int hidden)
{
    using qs::test::fakeTensor;
    std::vector<qs::io::TensorInfo> v{fakeTensor("model.embed_tokens.weight", {1000, hidden}),
                                      fakeTensor("model.norm.weight", {hidden}),
                                      fakeTensor("lm_head.weight", {1000, hidden}),
                                      fakeTensor("rotary.inv_freq", {hidden / 2}, "F32")};
    for (int i = 0; i < blocks; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        v.push_back(fakeTensor(p + "self_attn.q_proj.weight", {hidden, hidden}));
        v.push_back(fakeTensor(p + "self_attn.q_proj.bias", {hidden}));
        v.push_back(fakeTensor(p + "self_attn.k_proj.weight", {hidden / 4, hidden}));
        v.push_back(fakeTensor(p + "self_attn.v_proj.weight", {hidden / 4, hidden}));
        v.push_back(fakeTensor(p + "self_attn.o_proj.weight", {hidden, hidden}));
        v.push_back(fakeTensor(p + "mlp.gate_proj.weight", {3 * hidden, hidden}));
        v.push_back(fakeTensor(p + "mlp.up_proj.weight", {3 * hidden, hidden}));
        v.push_back(fakeTensor(p + "mlp.down_proj.weight", {hidden, 3 * hidden}));
        v.push_back(fakeTensor(p + "input_layernorm.weight", {hidden}));
        v.push_back(fakeTensor(p + "post_attention_layernorm.weight", {hidden}));
    }
    std::shuffle(v.begin(), v.end(), std::mt19937(std::random_device{}()));
    return v;
}

QStringList childLabels(const QAbstractItemModel& m, const QModelIndex& parent)
{
    QStringList out;
    for (int r = 0; r < m.rowCount(parent); ++r)
        out << m.index(r, 0, parent).data().toString();
    return out;
}

} // namespace

class TestLayerTreeModel : public QObject {
    Q_OBJECT
private slots:
    void structureAndColumns()
    {
        LayerTreeModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);

        const int hidden = 64 * (1 + static_cast<int>(std::random_device{}() % 4));
        auto m = qs::test::fakeModel(qwenLikeTensors(11, hidden));
        model.setModel(m);
        QCOMPARE(model.columnCount(), int(LayerTreeModel::ColumnCount));
        const QStringList top = childLabels(model, {});
        QCOMPARE(top.size(), 1 + 11 + 3);
        QCOMPARE(top.first(), QStringLiteral("Embeddings"));
        QCOMPARE(top[3], QStringLiteral("Block 2"));
        QCOMPARE(top[11], QStringLiteral("Block 10"));
        QCOMPARE(top.mid(12), (QStringList{"Final norm", "LM head", "Other"}));

        const QModelIndex block10 = model.index(11, 0);
        QCOMPARE(block10.data(LayerTreeModel::BlockIndexRole).toInt(), 10);
        QCOMPARE(childLabels(model, block10), (QStringList{"Attention", "MLP", "Norms"}));
        const QModelIndex attn = model.index(0, 0, block10);
        QCOMPARE(childLabels(model, attn), (QStringList{"q_proj", "q_proj.bias", "k_proj", "v_proj", "o_proj"}));
        QCOMPARE(model.parent(attn), block10);

        const QModelIndex k = model.index(2, 0, attn);
        QCOMPARE(k.data(LayerTreeModel::TensorNameRole).toString(),
                 QStringLiteral("model.layers.10.self_attn.k_proj.weight"));
        QCOMPARE(k.data(LayerTreeModel::TensorRoleRole).toString(), QStringLiteral("k"));
        QCOMPARE(k.siblingAtColumn(LayerTreeModel::ShapeColumn).data().toString(),
                 QStringLiteral("[%1, %2]").arg(hidden / 4).arg(hidden));
        QCOMPARE(k.siblingAtColumn(LayerTreeModel::DTypeColumn).data().toString(), QStringLiteral("BF16"));
        QCOMPARE(k.siblingAtColumn(LayerTreeModel::ParamsColumn).data(LayerTreeModel::SortRole).toLongLong(),
                 qint64(hidden / 4) * hidden);
        const qs::io::TensorInfo* info = model.toTensorInfo(k.siblingAtColumn(LayerTreeModel::BytesColumn));
        QVERIFY(info);
        QCOMPARE(info->name, std::string("model.layers.10.self_attn.k_proj.weight"));
        QVERIFY(!model.toTensorInfo(attn));
        QCOMPARE(model.indexOfTensor(QStringLiteral("model.layers.10.self_attn.k_proj.weight")), k);
        QVERIFY(!model.indexOfTensor(QStringLiteral("no.such.tensor")).isValid());

        // A group row sums what is below it; the whole tree sums to the checkpoint.
        std::int64_t sumTop = 0;
        for (int r = 0; r < model.rowCount(); ++r)
            sumTop += model.index(r, 0).data(LayerTreeModel::ParamsRole).toLongLong();
        QCOMPARE(sumTop, m->checkpoint->totalParameters());
        QCOMPARE(block10.data(LayerTreeModel::TensorCountRole).toInt(), 10);
        // "Other" holds one F32 tensor among BF16 ones: the root mixes, the group does not.
        QCOMPARE(model.index(14, LayerTreeModel::DTypeColumn).data().toString(), QStringLiteral("F32"));
        QCOMPARE(block10.siblingAtColumn(LayerTreeModel::DTypeColumn).data().toString(), QStringLiteral("BF16"));

        model.setModel(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void proxyFilterKeepsAncestors()
    {
        LayerTreeModel model;
        model.setModel(qs::test::fakeModel(qwenLikeTensors(4, 64)));
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setFilterRole(LayerTreeModel::FilterTextRole);
        proxy.setRecursiveFilteringEnabled(true);
        proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);

        proxy.setFilterFixedString(QStringLiteral("layers.3.mlp.DOWN"));
        QCOMPARE(proxy.rowCount(), 1);
        const QModelIndex block = proxy.index(0, 0);
        QCOMPARE(block.data().toString(), QStringLiteral("Block 3"));
        QCOMPARE(proxy.rowCount(block), 1);
        const QModelIndex mlp = proxy.index(0, 0, block);
        QCOMPARE(childLabels(proxy, mlp), QStringList{"down_proj"});

        proxy.setFilterFixedString(QStringLiteral("q_proj"));
        QCOMPARE(proxy.rowCount(), 4); // one per block
    }
};

QTEST_MAIN(TestLayerTreeModel)
#include "test_layer_tree_model.moc"
