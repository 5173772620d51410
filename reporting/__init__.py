"""The results page (`make report`, `python -m reporting`): the runs behind every finding of the
report, its poster and Ahn, Lee and Huang's CAN implementation (`runs`), the findings with their
sources, criteria and verdicts (`findings`), and the page, its Markdown table and the README's
block (`report`)."""
