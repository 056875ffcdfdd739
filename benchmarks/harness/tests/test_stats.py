import unittest

from isthmus_compare import stats


class StatsTest(unittest.TestCase):
    def test_median_odd_even(self):
        self.assertEqual(stats.median([3, 1, 2]), 2.0)
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)

    def test_median_ignores_failed_rounds(self):
        self.assertEqual(stats.median([None, 5, None, 7]), 6.0)

    def test_median_of_nothing_is_none(self):
        self.assertIsNone(stats.median([]))
        self.assertIsNone(stats.median([None, None]))

    def test_median_accepts_a_generator(self):
        self.assertEqual(stats.median(x for x in (10, 30, 20)), 20.0)

    def test_ratio(self):
        self.assertAlmostEqual(stats.ratio(270.0, 200.0), 1.35)
        self.assertIsNone(stats.ratio(None, 2.0))
        self.assertIsNone(stats.ratio(1.0, None))
        self.assertIsNone(stats.ratio(1.0, 0))

    def test_per_op(self):
        self.assertAlmostEqual(stats.per_op(1.5, 300000), 5e-6)
        self.assertIsNone(stats.per_op(1.0, 0))
        self.assertIsNone(stats.per_op(None, 10))


if __name__ == "__main__":
    unittest.main()
