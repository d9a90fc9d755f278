"""Reports over what the store knows: engagement rankings and attendance, as table/CSV/JSON."""
