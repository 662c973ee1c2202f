"""What a user defines: data laws (their ingredients), update rules, the registered methods and
iterate averaging."""
