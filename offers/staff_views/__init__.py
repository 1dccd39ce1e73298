"""The staff's workflows for offers, as plain function views inside the admin site
(`config.admin.staff_view`); their URLs are in `urls.py`, their forms in `offers.forms`.
The `ModelAdmin`s of `offers.admin` keep the lists and the detail pages."""
