#pragma once
// The whole model in one row: a cell per linear (model order), coloured by the chosen method's
// error (log scale, blue = lowest, red = highest of that method), or by weight kurtosis until
// a method has results, so hot spots stand out at a glance. Block boundaries are drawn; a click
// reports the linear's row.
#include <QWidget>

namespace qs::ui {

class LinearMetricsModel;

class ModelErrorStrip : public QWidget {
    Q_OBJECT
public:
    explicit ModelErrorStrip(LinearMetricsModel* model, QWidget* parent = nullptr);

    void setMethod(const QString& method); // empty: colour by kurtosis
    const QString& method() const { return method_; }
    int cellCount() const;
    QColor cellColor(int row) const;       // for tests and screenshots

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void rowClicked(int row);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override; // tooltips

private:
    double valueAt(int row) const;
    int rowAt(int x) const;
    void updateRange();

    LinearMetricsModel* model_;
    QString method_;
    double lo_ = 0, hi_ = 1;
};

} // namespace qs::ui
