"""Alerts as stories happen: a watch asks for `instant` alerts (a new story matches it)
and `breaking` ones (a matching story's independent sources surge), sent by `veille run`
right after the poll that brought the articles, once per story and threshold, through
every kind of target, held by quiet hours and a rate cap.

`detect`: when a story breaks (plain functions over times); `limits`: quiet hours;
`render`: an alert for each kind of target; `stage`: the round run after each poll.
"""
