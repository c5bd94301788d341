"""Optional plotting for the examples: a PNG when matplotlib is installed (the ``plot`` extra), else nothing."""


def save_plot(filename, draw):
    """Call ``draw(plt)`` and save the figure as ``filename``; skip quietly without matplotlib.

    A saved plot must say what it shows: a title, labelled axes, and a legend
    when it has several lines or point sets.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    plt.figure(figsize=(5, 3.5))
    draw(plt)
    _check_labels(plt.gca(), filename)
    plt.tight_layout()
    plt.savefig(filename, dpi=80)
    plt.close()
    print(f"saved {filename}")
    return filename


def _check_labels(ax, filename):
    missing = [what for what, text in (("a title", ax.get_title()), ("an x label", ax.get_xlabel()),
                                       ("a y label", ax.get_ylabel())) if not text]
    if len(ax.lines) + len(ax.collections) > 1 and ax.get_legend() is None:
        missing.append("a legend")
    if missing:
        raise AssertionError(f"{filename} lacks {', '.join(missing)}")
