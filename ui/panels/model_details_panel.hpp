#pragma once
// The right-hand panel: a summary of the open model and the details of the selected tree row
// (a tensor, or a group with its totals). Value labels carry object names ("summaryStatus",
// "tensorShape", ...) so tests and later views can find them.
#include "core/io/checkpoint.hpp"
#include "core/model/model.hpp"

#include <QWidget>

#include <cstdint>

class QFormLayout;
class QGroupBox;
class QLabel;

namespace qs::ui {

class ModelDetailsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelDetailsPanel(QWidget* parent = nullptr);

    void showModel(const model::Model* model); // null: no model open
    void showTensor(const io::TensorInfo& tensor);
    void showGroup(const QString& label, int tensorCount, std::int64_t params, std::uint64_t bytes,
                   const QString& dtype);
    void clearSelection();

private:
    QLabel* addRow(QFormLayout* form, const QString& title, const QString& objectName);
    void setSelectionRows(const QString& name, const QString& shape, const QString& dtype, const QString& params,
                          const QString& bytes, const QString& file, const QString& offset);

    QGroupBox* summaryBox_ = nullptr;
    QLabel* summaryPlaceholder_ = nullptr;
    QWidget* summaryRows_ = nullptr;
    QLabel* source_ = nullptr;
    QLabel* format_ = nullptr;
    QLabel* architecture_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* parameters_ = nullptr;
    QLabel* size_ = nullptr;
    QLabel* layers_ = nullptr;
    QLabel* heads_ = nullptr;
    QLabel* hidden_ = nullptr;
    QLabel* vocab_ = nullptr;
    QLabel* context_ = nullptr;
    QLabel* dtype_ = nullptr;
    QLabel* tokenizer_ = nullptr;

    QGroupBox* selectionBox_ = nullptr;
    QLabel* selectionPlaceholder_ = nullptr;
    QWidget* selectionRows_ = nullptr;
    QLabel* tensorName_ = nullptr;
    QLabel* tensorShape_ = nullptr;
    QLabel* tensorDtype_ = nullptr;
    QLabel* tensorParams_ = nullptr;
    QLabel* tensorBytes_ = nullptr;
    QLabel* tensorFile_ = nullptr;
    QLabel* tensorOffset_ = nullptr;
};

} // namespace qs::ui
