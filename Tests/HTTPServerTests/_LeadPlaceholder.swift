enum _LeadPlaceholder {}
