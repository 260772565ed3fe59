def main() -> None:
    print("eahub")
