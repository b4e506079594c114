from django.urls import path

from apps.review import exports, views

urlpatterns = [
    path("", views.queue, name="review-queue"),
    path("samples/", views.sample_create, name="review-sample-create"),
    path("samples/<int:sample_id>/", views.sample_detail, name="review-sample"),
    path("samples/<int:sample_id>/assign/", views.assign, name="review-assign"),
    path("answers/<int:answer_id>/", views.answer_review, name="review-answer"),
    path("dashboard/", views.dashboard, name="review-dashboard"),
    path("exports/reviews.csv", exports.reviews_csv, name="review-export-csv"),
    path("exports/reviews.jsonl", exports.reviews_jsonl, name="review-export-jsonl"),
    path("report/", exports.report, name="review-report"),
]
