"""Views of an analysis: plotly figures and the self-contained HTML report."""
