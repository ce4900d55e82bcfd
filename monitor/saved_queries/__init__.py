"""The team's saved queries (SQL files), shipped inside the package; db/queries links here."""
