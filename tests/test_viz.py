"""Plots return figures with the expected content; the live plot updates one display in place."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ocrlab import models, train, viz  # noqa: E402


def test_show_images_titles_and_wide_images_keep_their_aspect():
    fig = viz.show_images(torch.zeros(4, 28, 28, dtype=torch.uint8), titles=list("abcd"), ncols=2)
    assert [ax.get_title() for ax in fig.axes] == list("abcd")
    wide = viz.show_images(torch.zeros(3, 32, 320, dtype=torch.uint8), ncols=3, cell=2.0)
    assert wide.get_figheight() < wide.get_figwidth() / 3  # rows sized for 10:1 images, not squares
    plt.close("all")


def test_history_confusion_mistakes_and_first_layer_plots(tiny_digits):
    train_data, test = tiny_digits
    model = models.create("lenet5")
    history = train.fit(model, train_data, test, epochs=1, batch_size=100, verbose=False)
    fig = viz.plot_history({"a": history, "b": history})
    assert len(fig.axes[1].lines) == 4  # train and test accuracy for each run
    ev = train.evaluate(model, test)
    cm = train.confusion_matrix(ev.labels, ev.predictions, 10)
    assert viz.plot_confusion_matrix(cm, list("0123456789")).axes[0].get_xlabel() == "predicted"
    mistakes = viz.show_mistakes(test[0], ev, list("0123456789"), n=6)
    assert len([ax for ax in mistakes.axes if ax.images]) == min(6, int((ev.predictions != ev.labels).sum()))
    layer = viz.show_first_layer(model, test[0][0])
    assert sum(1 for ax in layer.axes if ax.images) == 1 + 2 * 6  # input, 6 kernels, 6 maps
    plt.close("all")


def test_live_plot_displays_once_then_updates_in_place(monkeypatch, tiny_digits):
    calls = []

    class Handle:
        def update(self, fig):
            calls.append("update")

    def fake_display(fig, display_id=False):
        calls.append("display")
        return Handle()

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", fake_display)
    train_data, test = tiny_digits
    train.fit(models.create("lenet5"), train_data, test, epochs=3, batch_size=200, verbose=False,
              callbacks=[viz.LivePlot(min_interval=0.0)])
    assert calls == ["display", "update", "update"]
    calls.clear()
    train.fit(models.create("lenet5"), train_data, epochs=3, batch_size=200, verbose=False,
              callbacks=[viz.LivePlot(min_interval=60.0)])
    assert calls == ["display", "update"]  # throttled, but the final epoch is always drawn


def test_confusion_matrix_colour_bar_and_cells_share_the_percent_scale():
    cm = torch.tensor([[8, 2], [1, 9]])
    fig = viz.plot_confusion_matrix(cm, ["a", "b"])
    ax, bar = fig.axes
    assert [t.get_text() for t in ax.texts] == ["80", "20", "10", "90"]
    assert ax.images[0].get_array().max() == 90  # the colour scale is in % too
    assert "%" in bar.get_ylabel()
    plt.close("all")


def test_two_line_titles_do_not_overlap_the_row_above():
    fig = viz.show_images(torch.zeros(20, 28, 28, dtype=torch.uint8), titles=["a→b\n99%"] * 20, ncols=10)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.images]
    first_row_bottom = min(ax.get_window_extent(renderer).y0 for ax in axes[:10])
    second_row_title_top = max(ax.title.get_window_extent(renderer).y1 for ax in axes[10:])
    assert second_row_title_top < first_row_bottom
    plt.close("all")
