"""Understanding a story: entities, key facts, disagreements."""
