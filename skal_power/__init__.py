"""skal_power: information-theoretic and stochastic active-learning query strategies."""

__version__ = "0.1.0"
