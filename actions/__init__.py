"""Custom actions of the gentle-parenting assistant (rasa-sdk registers every module)."""
