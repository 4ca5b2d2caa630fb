# Customers change only through customers.services (every change audited), so the Django
# admin does not offer them.
