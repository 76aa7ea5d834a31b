"""What a run shows people: run summary, console tables, the HTML report, the data dictionary."""
