#include "ui/plots/plot_style.hpp"

#include <QFileDialog>
#include <QMenu>
#include <QSettings>

#include <qcustomplot.h>

#include <spdlog/spdlog.h>

namespace qs::ui {

void stylePlot(QCustomPlot* plot)
{
    QFont f = plot->font();
    f.setPointSizeF(8.5);
    for (QCPAxis* axis : plot->axisRect()->axes()) {
        axis->setTickLabelFont(f);
        axis->setLabelFont(f);
    }
    plot->legend->setFont(f);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->setNoAntialiasingOnDrag(true);
    plot->setMinimumSize(220, 160);
}

void setPlotTitle(QCustomPlot* plot, const QString& title)
{
    if (plot->plotLayout()->rowCount() < 2 || !qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))) {
        plot->plotLayout()->insertRow(0);
        QFont f = plot->font();
        f.setPointSizeF(9);
        f.setBold(true);
        plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title, f));
        return;
    }
    static_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0))->setText(title);
}

bool savePlot(QCustomPlot* plot, const QString& file)
{
    const bool ok = file.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive)
                        ? plot->savePdf(file)
                        : plot->savePng(file, 0, 0, 2.0);
    if (ok)
        spdlog::info("plot saved to {}", file.toStdString());
    else
        spdlog::error("cannot write plot {}", file.toStdString());
    return ok;
}

void addPlotExportMenu(QCustomPlot* plot)
{
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint& pos) {
        QMenu menu(plot);
        auto saveAs = [plot](const QString& filter, const QString& suffix) {
            const QString dir = QSettings().value(QStringLiteral("lastExportDir")).toString();
            QString file = QFileDialog::getSaveFileName(plot, QObject::tr("Save Plot"),
                                                        dir + QLatin1Char('/') + plot->objectName() + suffix, filter);
            if (file.isEmpty())
                return;
            QSettings().setValue(QStringLiteral("lastExportDir"), QFileInfo(file).absolutePath());
            savePlot(plot, file);
        };
        menu.addAction(QObject::tr("Save as PNG\u2026"), plot,
                       [saveAs] { saveAs(QObject::tr("PNG image (*.png)"), QStringLiteral(".png")); });
        menu.addAction(QObject::tr("Save as PDF\u2026"), plot,
                       [saveAs] { saveAs(QObject::tr("PDF document (*.pdf)"), QStringLiteral(".pdf")); });
        menu.addSeparator();
        menu.addAction(QObject::tr("Reset View"), plot, [plot] {
            plot->rescaleAxes();
            plot->replot();
        });
        menu.exec(plot->mapToGlobal(pos));
    });
}

} // namespace qs::ui
