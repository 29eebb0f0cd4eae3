"""stance: label news paragraphs for stance, framing and sentiment toward great powers."""

__version__ = "0.1.0"
