"""CRM exports read into one model: opportunities, their stage history, as-of snapshots.

The funnel analysis and the pipeline forecast read deals through here, so a
deal is won, lost or open by the same rule everywhere.
"""
