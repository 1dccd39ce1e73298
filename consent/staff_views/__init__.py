"""The staff's workflows for consent, as plain function views inside the admin site
(`config.admin.staff_view`); their URLs are in `urls.py`, their forms in `consent.forms`.
The `ModelAdmin`s of `consent.admin` keep the lists and the detail pages."""
