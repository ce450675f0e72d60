"""The sandbox world of the suite's trained home (conftest.trained_home), of the tests that log in
to it again, and of the other tests that train on a harvested store.

Its listener has more than 40 likes and 40 dislikes, so `tastebot train` measures on one held-out
part of artists: one training. Seed 7's listener (65 likes, 37 dislikes) is thin data, which
`tastebot train` cross-validates: six trainings, about twice the time. The thin-data path has its
own tests (test_train_model).
"""

TRAINED_WORLD = {"seed": 9, "n_tracks": 600}
