"""Optional plotting for the examples: a PNG when matplotlib is installed, else nothing."""


def save_plot(filename, draw):
    """Call ``draw(plt)`` and save the figure as ``filename``; skip quietly without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    plt.figure(figsize=(5, 3.5))
    draw(plt)
    plt.tight_layout()
    plt.savefig(filename, dpi=80)
    plt.close()
    print(f"saved {filename}")
    return filename
