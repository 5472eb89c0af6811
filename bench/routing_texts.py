"""Twenty short support messages with their true label (billing, technical, shipping)."""

LABELLED = [
    ("I was charged twice for my subscription this month.", "billing"),
    ("Can I get a refund for the annual plan I bought yesterday?", "billing"),
    ("My invoice shows the wrong VAT number.", "billing"),
    ("Why did my credit card payment fail?", "billing"),
    ("Please update the billing address on my account.", "billing"),
    ("The price on my receipt is higher than on your website.", "billing"),
    ("How do I download last year's invoices?", "billing"),
    ("The app crashes every time I open the settings page.", "technical"),
    ("I can't log in, it says my password is invalid after the reset.", "technical"),
    ("The export to CSV produces an empty file.", "technical"),
    ("Your API returns a 500 error when I send a large request.", "technical"),
    ("The website is very slow and pages time out.", "technical"),
    ("After the update, notifications stopped working on Android.", "technical"),
    ("My parcel has not arrived, it has been two weeks.", "shipping"),
    ("The tracking number you sent me does not work.", "shipping"),
    ("Can you deliver to a post office box?", "shipping"),
    ("The package arrived damaged and the box was open.", "shipping"),
    ("How long does delivery to Canada take?", "shipping"),
    ("I want to change the delivery address for my order.", "shipping"),
    ("The courier left my order at the wrong house.", "shipping"),
]
